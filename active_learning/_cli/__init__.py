"""The ``scout`` sub-commands (registered in :data:`active_learning.cli.COMMANDS`): campaign,
simulate, train and compress; each turns bad input into one line and exit code 2.
"""
