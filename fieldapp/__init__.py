"""一线 Yixian field app (Flet). Run with ``python -m fieldapp`` (web mode, see ``main.py``)."""
