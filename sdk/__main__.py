"""``python -m exsdk``: the command line, as the ``exsdk`` script."""

from exsdk.app.cli import main

main()
