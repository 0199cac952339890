"""Start `aiport serve` on the embedded models and use every endpoint once; exit 0 if all
answered. Run by test_offline_server.py inside a network namespace with only loopback."""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from tests.support.server import AiportProcess


def main() -> None:
    server = AiportProcess(Path(tempfile.mkdtemp(prefix="aiport-offline-"))).start(timeout=180)
    try:
        client = server.client(v1=False)  # the seed's paths
        chat = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hallo!"}], max_tokens=8
        )
        assert chat.choices[0].message.content
        assert client.embeddings.create(model="text-embedding-3-small", input="x").data
        speech = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello there.")
        audio = speech.read()
        text = client.audio.transcriptions.create(
            model="whisper-1", file=("a.mp3", io.BytesIO(audio), "audio/mpeg")
        )
        assert text.text.strip()
        assert client.moderations.create(input="Dies ist ein Beispieltext").results
        assert client.images.generate(prompt="a yellow sun", response_format="b64_json").data
        assert client.models.list().data
    finally:
        server.stop()
    print("offline ok")


if __name__ == "__main__":
    sys.exit(main())
