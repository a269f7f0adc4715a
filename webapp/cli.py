"""The `erp` command as installed: the domain's commands (erp.cli) plus those that need the web app. Living
here keeps the rule that nothing below the web layer imports it."""
from __future__ import annotations

import click

from erp.cli import main


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Flask's development server with the debugger (never in production)")
def serve(host, port, threads, debug):
    """Serve the web app (inbox, forms, administration, /api/v1)."""
    from webapp import create_app

    app = create_app()
    if debug:
        app.run(host=host, port=port, debug=True)
        return
    from waitress import serve as waitress_serve

    click.echo(f"serving on http://{host}:{port}/ ({threads} threads)")
    waitress_serve(app, host=host, port=port, threads=threads, ident="erp")


main.add_command(serve)

if __name__ == "__main__":
    main()
