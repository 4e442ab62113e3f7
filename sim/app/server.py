"""The local web server of `sim app`: Solara's Starlette app under uvicorn, on localhost.

Nothing leaves the machine: Solara's usage statistics are switched off, its front end comes
from the solara-assets package (installed with the `app` extra) rather than a CDN, and the
server binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

APP = "sim.app.page"
RESULTS_ENV = "SIM_APP_RESULTS"  # the folder the page writes runs to
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def offline_environment(results: Path) -> dict[str, str]:
    """The settings Solara reads at import: this app, no telemetry, production assets, and where runs go."""
    return {
        "SOLARA_APP": APP,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_MODE": "production",
        RESULTS_ENV: str(results),
    }


def serve(host: str = "127.0.0.1", port: int = 8765, results: Path | None = None) -> None:
    """Serve the app until interrupted. Runs go to `results` (default: a temporary folder,
    removed when the server stops)."""
    with tempfile.TemporaryDirectory(prefix="sim-app-") as scratch:
        os.environ.update(offline_environment(Path(results) if results is not None else Path(scratch)))
        import uvicorn

        print(f"sim app: http://{host}:{port}  (Ctrl-C stops it)", flush=True)
        if host not in LOOPBACK:
            print(f"warning: --host {host}: the app is open to other machines on the network", flush=True)
        uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")
