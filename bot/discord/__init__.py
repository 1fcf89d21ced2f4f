"""The Discord edge: everything that speaks discord.py lives here and nowhere else.

``client`` (the bot and ``run_bot``, the composition root that wires every layer), ``tree``
(the command tree: the one error path and the answer helper), ``cogs/`` (one file per command
family, thin: parse, call ``bot.services``, render), ``delivery`` (the worker that sends the
outbox to Discord), ``embeds`` (rendered messages → discord.py arguments, allowed mentions) and
``api_base`` (pointing discord.py at ``DISCORD_API_BASE`` and its gateway).

Add a command: a cog in ``cogs/`` registered in ``cogs.extensions``, a function in
``bot.services`` for what it does, and its words in ``bot.notify.render`` / ``bot.services.replies``.
"""
