"""Which files the wheel holds (the metadata is in pyproject.toml).

Every package under sync/, server/ and fieldapp/ (namespace folders too), with the files read at
run time as package data: the scoring rules, Alembic's migration template, and the app's assets.
The assets live at the top of the checkout (``assets/``, where ``flet build`` looks for the icon,
the splash and the font) and are installed as the package ``fieldapp.assets``; the app finds
them in either place (``fieldapp/config.py`` ``assets_dir``). docs/deploy.md tells the story.
"""

from setuptools import find_namespace_packages, setup

PACKAGES = find_namespace_packages(
    include=["sync", "sync.*", "server", "server.*", "fieldapp", "fieldapp.*"],
    exclude=["*.__pycache__"],
)

setup(
    packages=[*PACKAGES, "fieldapp.assets"],
    package_dir={"fieldapp.assets": "assets"},
    package_data={
        "server.evaluation": ["rules.toml"],
        "server.migrations": ["script.py.mako"],
        "fieldapp.assets": ["*", "**/*"],  # every file of assets/
    },
    include_package_data=False,
)
