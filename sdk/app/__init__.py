"""The command-line application: what ``exsdk`` runs, kept out of the library a broker imports.

:mod:`~exsdk.app.cli` (the typer app), :mod:`~exsdk.app.experiment` (the experiment runner),
:mod:`~exsdk.app.quality` (execution quality from a journal) and :mod:`~exsdk.app.report`
(the HTML report).
"""
