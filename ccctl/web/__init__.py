"""The web console: wallboard, agent workstation, admin and report pages, the JSON API and its SSE streams.

ccctl.web.app.make_web_app builds the Flask app that `ccctl serve` runs under gevent.pywsgi.
"""
