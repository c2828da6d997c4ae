"""ZXing-C++ as a peer column for `cargo bench -p zpair-scanner --bench scanner -- --peers`.

Reads grey PNG paths (one per line) on stdin, decodes each once with the
zxing-cpp wheel (QR codes only, its default options), and prints one JSON
object per image: {"path", "ms", "cpu_ms", "texts"}, wall and thread CPU
time. Only the decode call is timed, as on the Rust side. Runs inside a throwaway venv the bench creates; it is never
a dependency of the product.
"""

import json
import sys
import time

import zxingcpp
from PIL import Image


def main() -> None:
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        image = Image.open(path).convert("L")
        image.load()
        start, cpu = time.perf_counter(), time.thread_time()
        results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
        cpu_ms = (time.thread_time() - cpu) * 1000.0
        ms = (time.perf_counter() - start) * 1000.0
        texts = [r.text for r in results if r.valid]
        print(json.dumps({"path": path, "ms": ms, "cpu_ms": cpu_ms, "texts": texts}), flush=True)


if __name__ == "__main__":
    main()
