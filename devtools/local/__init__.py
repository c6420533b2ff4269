"""The local dev server (``make run``): the harness's stack behind an HTTP server on 127.0.0.1, each
function in its own pool of worker processes, with the candidate pages, a mailbox and the
documents page. Kept free of imports: ``python -m devtools.local.containers`` children load it."""
