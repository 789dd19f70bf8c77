"""Drives ImgGo's own Python client (examples/common/imggo_client.py, imported by path
from the shared folder, unchanged) the way its README shows: upload an image and poll, or
submit a URL without polling and wait for the job. Prints one JSON line per result.

    python3 py_client.py CLIENT_DIR BASE_URL PATTERN_ID (file PATH | url URL)...
The key comes from IMGGO_API_KEY, as the client expects.
"""
import json
import sys

client_dir, base_url, pattern_id, *steps = sys.argv[1:]
sys.path.insert(0, client_dir)
from imggo_client import ImgGoClient  # noqa: E402

client = ImgGoClient(base_url=base_url)
for kind, target in zip(steps[::2], steps[1::2]):
    if kind == "file":
        manifest = client.process_image(target, pattern_id)
        print(json.dumps({"kind": kind, "target": target, "manifest": manifest}), flush=True)
    else:
        job = client.process_image_url(target, pattern_id, poll=False)
        manifest = client.wait_for_job(job["job_id"], wait_seconds=1)
        print(json.dumps({"kind": kind, "target": target, "job_id": job["job_id"], "manifest": manifest}), flush=True)
