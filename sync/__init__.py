"""The contract shared by the field app and the server.

Pure domain rules (applied identically offline on a phone and on the server), the sync
messages and protocol, and the device-side sync client. Imports neither ``fieldapp`` nor
``server``, nor flet nor fastapi.
"""
