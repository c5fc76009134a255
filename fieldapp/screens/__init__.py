"""One module per screen. Each exports a ``@ft.component`` that ``shell.ROUTES`` mounts.

Screens inside the signed-in layout return content (a Control); the layout wraps it in the
View with the navigation bar. Stand-alone screens (sign-in) return their own ``ft.View``.
"""
