#!/usr/bin/env python3
"""An SMTP receiver for the integration tests: Python's standard smtpd
(deprecated, still in Debian 12's Python 3.11), independent of fbld.

It listens on 127.0.0.1 (PORT given, or a free one written to PORT_FILE)
and stores each message it accepts as DIR/N.eml (the data as received)
with DIR/N.env holding the envelope as JSON: {"from": ..., "to": [...]}.
Exits 77 when smtpd is missing (Python 3.12 and later).

usage: smtp_receiver.py PORT_FILE DIR [PORT]
"""
import json
import os
import sys
import warnings

warnings.simplefilter("ignore", DeprecationWarning)
try:
    import asyncore
    import smtpd
except ImportError:
    print("python3 has no smtpd module")
    sys.exit(77)


class Receiver(smtpd.SMTPServer):
    def __init__(self, addr, directory):
        super().__init__(addr, None, decode_data=False)
        self.directory = directory
        self.n = len([f for f in os.listdir(directory) if f.endswith(".eml")])

    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        self.n += 1
        base = os.path.join(self.directory, str(self.n))
        with open(base + ".env", "w") as f:
            json.dump({"from": mailfrom, "to": rcpttos}, f)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        os.rename(base + ".eml.tmp", base + ".eml")
        return None


def main():
    port_file, directory = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    srv = Receiver(("127.0.0.1", port), directory)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.socket.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    asyncore.loop()


if __name__ == "__main__":
    main()
