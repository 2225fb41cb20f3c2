"""A tiny OpenAI-compatible chat server for tests: answers from the passages it is sent, streams on request.

Run: python openai_stub_server.py PORT LOGFILE [DELAY]. Each request body is appended to LOGFILE as one JSON line;
DELAY (seconds, default 0) is waited before each streamed piece, for a model that writes slowly.
"""

from __future__ import annotations

import json
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def compose_answer(messages: list[dict]) -> str:
    """Cite the passage that mentions the question's longest word; say NOT IN DOCUMENTS if none does."""
    user = messages[-1]["content"]
    if "Rewrite" in messages[0]["content"]:
        return user.rsplit("Last question:", 1)[-1].strip().replace("it", "the lighthouse")
    question = user.rsplit("Question:", 1)[-1].strip()
    keyword = max(re.findall(r"\w+", question), key=len).lower()
    for number, body in re.findall(r"<<\w+>> (\d+) \(source: [^)]*\)\n(.*?)\n<<\w+>> END", user, flags=re.S):
        for sentence in re.split(r"(?<=[.!?])\s+", body):
            if keyword in sentence.lower():
                return f"{sentence} [{number}] The moon is made of green cheese [42]."
    return "NOT IN DOCUMENTS"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open(self.server.log_path, "a", encoding="utf-8") as log:  # type: ignore[attr-defined]
            log.write(json.dumps(body) + "\n")
        answer = compose_answer(body["messages"])
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in re.findall(r"\S+\s*", answer):
                time.sleep(self.server.delay)  # type: ignore[attr-defined]
                try:
                    self._event({"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}, body)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client stopped reading: an answer stopped by its user
            self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, body)
            self.wfile.write(b"data: [DONE]\n\n")
            return
        payload = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "test"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _event(self, chunk: dict, body: dict) -> None:
        chunk.update({"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 0, "model": body["model"]})
        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.flush()


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.log_path = sys.argv[2]  # type: ignore[attr-defined]
    server.delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0  # type: ignore[attr-defined]
    print("listening", flush=True)  # the test waits for this line: the socket accepts connections from now on
    server.serve_forever()
