"""Local stand-ins for the external systems the deployments call, for tests and demos.

Real HTTP servers on loopback (FastAPI under uvicorn in a thread), never in-process mocks,
so a client's timeouts, status mapping and headers are exercised for real.
"""
