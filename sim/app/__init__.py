"""`sim app`: the simulator in the browser, on Solara (the framework Mesa's own visualisation uses).

Layers: `parameters` (the catalog, a scenario's values with their ranges and sources),
`runner` (a run with progress and cancel, and its results directory), `views` (the tables the
page shows, computed from that directory), `page` (the Solara components) and `server` (the
local web server). Only `page` and `server` import Solara, and only when `sim app` runs.
"""
