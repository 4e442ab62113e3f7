def add_commands(command): pass
