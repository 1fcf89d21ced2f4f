"""The command line beside ``python -m bot``: ``run`` (the bot), ``check`` (the /isitdown
answer in a terminal), ``inspect`` (one observation as JSON). ``simulate`` lives in
``bot/simulate/``, the replay of a bundled outage through the real pipeline."""
