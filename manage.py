#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # No secret key in the environment means a developer's machine: local defaults (debug,
    # console mail, a fixed dev key). Production sets DJANGO_SECRET_KEY, and the web server
    # (config/wsgi.py) never takes this shortcut: it refuses to start without a key.
    if not os.environ.get("DJANGO_SECRET_KEY"):
        os.environ.setdefault("DJANGO_DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
