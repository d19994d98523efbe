"""``rest-video studio``: a local web page to choose a look, render files and stream live.

The package sits on top of the library (pipeline, stream, live, batch) and nothing below imports
it. It needs the ``[studio]`` extra (Starlette, uvicorn):

    from rest_video.studio.app import StudioSettings, create_app

Modules: :mod:`~rest_video.studio.app` (the ASGI app), :mod:`~rest_video.studio.routes` and
:mod:`~rest_video.studio.routes_live` (HTTP and WebSocket endpoints),
:mod:`~rest_video.studio.security` (token, Host, Origin), :mod:`~rest_video.studio.workspace`
(session folders, ids), :mod:`~rest_video.studio.uploads` (limits, type checks),
:mod:`~rest_video.studio.preview` (LUT and full previews), :mod:`~rest_video.studio.jobs` (the
queue), :mod:`~rest_video.studio.work` (what a job runs), :mod:`~rest_video.studio.live` (the feed).
"""
