"""The baseline: a bare Flask hello-world, served by the same gunicorn settings as leadsieve."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """The cheapest answer Flask can give."""
    return "Hello, World!"
