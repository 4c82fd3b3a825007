"""Staging smoke test: an endpoint's answer to a request has one prediction per request row.

    python ci/check_response.py RESPONSE.json REQUEST.json
"""

import json
import sys


def main(response_path: str, request_path: str) -> None:
    with open(response_path, encoding="utf-8") as file:
        response = json.load(file)
    with open(request_path, encoding="utf-8") as file:
        rows = len(json.load(file)["input_data"]["data"])
    if not isinstance(response, list) or len(response) != rows:
        sys.exit(f"smoke test failed: expected {rows} predictions, got {json.dumps(response)[:200]}")
    if any(not isinstance(value, (int, float)) for value in response):
        sys.exit(f"smoke test failed: predictions are not numbers: {response}")
    print(f"smoke test passed: {rows} predictions")


if __name__ == "__main__":
    main(*sys.argv[1:])
