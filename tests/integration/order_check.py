"""Checks that each camera's results are in capture order on a topic, as Kafka keeps a key's
records: per partition, a camera's sequence numbers must be exactly 0, 1, 2, ... N-1 in offset
order (no gap, no repeat, nothing out of place).

Usage: order_check.py FRAMES FILE...
Each FILE is kcat output, one record per line: "<partition> <offset> <rest>", where <rest> is
either the headers of a processed_images record (kcat's %h: kv.camera=...,kv.seq=...) or the
JSON of a detections record (%s).
"""
import json
import re
import sys

frames = int(sys.argv[1])
failures = 0
for path in sys.argv[2:]:
    streams = {}  # (partition, camera) -> [(offset, seq)]
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if not line:
            continue
        partition, offset, rest = line.split(" ", 2)
        if rest.startswith("{"):
            rec = json.loads(rest)
            camera, seq = rec["camera"], rec["seq"]
        else:
            camera = re.search(r"(?:^|,)kv\.camera=([^,]*)", rest).group(1)
            seq = int(re.search(r"(?:^|,)kv\.seq=(\d+)", rest).group(1))
        streams.setdefault((int(partition), camera), []).append((int(offset), seq))
    cameras = {}
    for (partition, camera), records in sorted(streams.items()):
        records.sort()
        seqs = [s for _, s in records]
        cameras.setdefault(camera, 0)
        cameras[camera] += len(seqs)
        if seqs != list(range(len(seqs))):
            bad = next(i for i, s in enumerate(seqs) if s != i)
            print(f"FAIL {path}: camera {camera} on partition {partition}: record {bad} has seq "
                  f"{seqs[bad]} (expected {bad}); around it: {seqs[max(0, bad - 3):bad + 4]}")
            failures += 1
    for camera, n in sorted(cameras.items()):
        if n != frames:
            print(f"FAIL {path}: camera {camera} has {n} results, expected {frames}")
            failures += 1
    print(f"{path}: {sum(cameras.values())} records, cameras {sorted(cameras)}: "
          + ("in order" if failures == 0 else "NOT in order"))
sys.exit(1 if failures else 0)
