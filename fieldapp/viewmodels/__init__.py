"""Plain-Python view-models: the screens' state and logic, free of Flet so unit tests drive them.

A screen wraps one in ``ft.observable(...)`` so that setting an attribute re-renders it.
"""
