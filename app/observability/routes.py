"""`GET /metrics`: Prometheus' text format. A plain `def`, so FastAPI runs it (and the
database read of the waiting gauge) in its thread pool, off the event loop."""

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.observability.metrics import Metrics

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus metrics of this server process (of all of them in multiprocess mode)."""
    app_metrics: Metrics = request.app.state.metrics
    return Response(generate_latest(app_metrics.exposition()), media_type=CONTENT_TYPE_LATEST)
