"""The reference for bench.write_path: a FastAPI endpoint that does nothing but read the same
JSON body and answer, served by the same uvicorn."""

from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI()


class Body(BaseModel):
    service_id: int


@app.post("/bare", status_code=201)
async def bare(body: Body) -> dict[str, int]:
    return {"service_id": body.service_id}
