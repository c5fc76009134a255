"""ASGI entry for uvicorn: settings from the environment."""

from server.app import create_app

app = create_app()
