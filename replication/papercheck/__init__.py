"""The paper-shape check: every distinct job of scale ``paper`` at the published sizes, with
only iteration and sample counts cut, on small data in each source's real format."""
