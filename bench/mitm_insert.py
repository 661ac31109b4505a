"""mitmproxy addon for bench/proxy-load.sh: the same HTML insertion smime-proxy's
roundcube rule does (a marker right after the opening <body> tag) on text/html
responses, so both proxies do equivalent work."""

import re

from mitmproxy import http

MARKER = b'<div id="smime-proxy-controls" hidden data-smime-proxy="roundcube"></div>'
BODY_OPEN = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)


def response(flow: http.HTTPFlow) -> None:
    content_type = flow.response.headers.get("content-type", "")
    if not content_type.lower().startswith("text/html"):
        return
    page = flow.response.content  # decoded (gzip/br/...) by mitmproxy
    if page is None:
        return
    flow.response.content = BODY_OPEN.sub(lambda m: m.group(0) + MARKER, page, count=1)
