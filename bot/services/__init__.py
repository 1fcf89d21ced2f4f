"""The service layer behind the slash commands: guild settings, subscriptions, the
``/isitdown`` answer. Commands are thin: they parse the interaction, call one function here and
render the answer. Nothing here imports discord."""
