# A real SMTP server for lab tests (Python's smtpd): every message is written to a file in the
# output directory, with its envelope. Usage: smtp_sink.py ADDRESS PORT OUTDIR
import asyncore
import os
import sys
import time
import warnings

warnings.filterwarnings("ignore", category=DeprecationWarning)
import smtpd  # noqa: E402  (deprecated in 3.11, still shipped by Debian 12's python3.11)

host, port, outdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        if isinstance(data, str):
            data = data.encode()
        name = os.path.join(outdir, "%d.eml" % time.time_ns())
        with open(name + ".tmp", "wb") as f:
            f.write(b"X-Envelope-From: " + mailfrom.encode() + b"\n")
            f.write(b"X-Envelope-To: " + ",".join(rcpttos).encode() + b"\n")
            f.write(data)
        os.rename(name + ".tmp", name)


Sink((host, port), None, decode_data=False)
print("ready", flush=True)
asyncore.loop()
