"""The phone build's entry point (`flet build` runs ``main.py`` of the app folder, pyproject.toml
``[tool.flet.app]``). Same app as ``python -m fieldapp`` / ``yixian-app``; on a phone Flet serves
it to the embedded client and ``FLET_APP_STORAGE_DATA`` holds its data (fieldapp/config.py)."""

from fieldapp.main import run

run()
