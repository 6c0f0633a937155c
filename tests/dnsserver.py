"""A small authoritative DNS server on loopback for the tests, built on dnspython's messages.

It answers from a zone dict over UDP and TCP on one free port:

    DnsServer({"acme.com": {"MX": ["10 mx.acme.com."]}, "null-mx.example": {"MX": ["0 ."]}},
              servfail={"broken.example"}, silent={"slow.example"})

Names under a `*.` key match any label(s) in front (for DNSBL zones). Names not
in the zone get NXDOMAIN; names in `servfail` get SERVFAIL; names in `silent`
never get an answer, so the resolver times out. `queries` counts what was asked.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections import Counter
from collections.abc import Iterable, Mapping

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

TTL = 300


class DnsServer:
    """Serve `zone` on 127.0.0.1 (UDP and TCP) until `stop()`."""

    def __init__(
        self,
        zone: Mapping[str, Mapping[str, Iterable[str]]],
        *,
        servfail: Iterable[str] = (),
        silent: Iterable[str] = (),
        ttl: int = TTL,
    ) -> None:
        self.zone = {
            self._key(name): {t.upper(): list(v) for t, v in records.items()} for name, records in zone.items()
        }
        self.servfail = {self._key(n) for n in servfail}
        self.silent = {self._key(n) for n in silent}
        self.ttl = ttl
        self.queries: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._servers: list[socketserver.BaseServer] = []
        self.port = 0

    @staticmethod
    def _key(name: str) -> str:
        return name.lower().rstrip(".")

    @property
    def address(self) -> str:
        """`127.0.0.1:PORT`, the form DNS_NAMESERVERS takes."""
        return f"127.0.0.1:{self.port}"

    def _lookup(self, name: str) -> Mapping[str, list[str]] | None:
        if name in self.zone:
            return self.zone[name]
        labels = name.split(".")
        for i in range(1, len(labels)):
            wildcard = "*." + ".".join(labels[i:])
            if wildcard in self.zone:
                return self.zone[wildcard]
        # An empty non-terminal (a parent of a listed name) exists, with no records.
        if any(key.endswith("." + name) for key in self.zone):
            return {}
        return None

    def answer(self, wire: bytes) -> bytes | None:
        """The reply to one query in wire format, or None to stay silent."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if not query.question:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        name = self._key(question.name.to_text())
        rdtype = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            self.queries[(name, rdtype)] += 1
        if name in self.silent:
            return None
        if name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
            return response.to_wire()
        records = self._lookup(name)
        if records is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif records.get(rdtype):
            response.answer.append(dns.rrset.from_text_list(question.name, self.ttl, "IN", rdtype, records[rdtype]))
        return response.to_wire()

    def start(self) -> DnsServer:
        """Bind UDP and TCP on the same free port and serve in daemon threads."""
        owner = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                reply = owner.answer(data)
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                conn: socket.socket = self.request
                conn.settimeout(5)
                try:
                    header = conn.recv(2)
                    if len(header) < 2:
                        return
                    (length,) = struct.unpack("!H", header)
                    data = b""
                    while len(data) < length:
                        chunk = conn.recv(length - len(data))
                        if not chunk:
                            return
                        data += chunk
                    reply = owner.answer(data)
                    if reply is not None:
                        conn.sendall(struct.pack("!H", len(reply)) + reply)
                except OSError:
                    return

        for _ in range(20):
            udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), Udp)
            port = udp.server_address[1]
            try:
                tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), Tcp)
            except OSError:
                udp.server_close()
                continue
            break
        else:
            raise RuntimeError("no free port for the test DNS server")
        udp.daemon_threads = tcp.daemon_threads = True
        self.port = port
        self._servers = [udp, tcp]
        for server in self._servers:
            threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                daemon=True,
                name=f"dns-{type(server).__name__}",
            ).start()
        return self

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []


def mx(*hosts: str) -> dict[str, list[str]]:
    """MX records for `hosts`, preference 10, 20, ..."""
    return {"MX": [f"{10 * (i + 1)} {h.rstrip('.')}." for i, h in enumerate(hosts)]}


# Every e-mail domain the test suite uses, with MX records, plus one domain per DNS outcome.
SUITE_MAIL_DOMAINS = [
    "acme.com",
    "example.com",
    "example.org",
    "www.example.com",
    "initech.com",
    "hooli.com",
    "vandelay.com",
    "umbrella.com",
    "globex.com",
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "yahoo.com",
    "rival.co.uk",
    "eu.rival.co.uk",
    "rival.com",
    "uni.ac.uk",
    "mit.edu",
    "partner.example",
    "spam.example",
    "spammy.example",
    "mailinator.com",
    "edu-consulting.com",
    "cyberdyne.com",
    "stark.com",
    "wayne.com",
]


def suite_zone() -> dict[str, dict[str, list[str]]]:
    """The zone the whole suite resolves against."""
    zone: dict[str, dict[str, list[str]]] = {d: mx(f"mx.{d}") for d in SUITE_MAIL_DOMAINS}
    zone.update({f"mx.{d}": {"A": ["192.0.2.25"]} for d in SUITE_MAIL_DOMAINS})
    zone["null-mx.example"] = {"MX": ["0 ."], "A": ["192.0.2.1"]}
    zone["a-only.example"] = {"A": ["192.0.2.2"]}
    zone["aaaa-only.example"] = {"AAAA": ["2001:db8::2"]}
    zone["no-mail.example"] = {"TXT": ['"v=spf1 -all"']}
    # DNSBL: 127.0.0.2 is listed everywhere under bl.example (reversed: 2.0.0.127.bl.example).
    zone["2.0.0.127.bl.example"] = {"A": ["127.0.0.2"]}
    zone["bl.example"] = {"A": ["192.0.2.53"]}
    return zone


SUITE_SERVFAIL = ["servfail.example", "4.0.0.127.bl.example"]
SUITE_SILENT = ["timeout.example"]


def suite_server() -> DnsServer:
    """A started server for the suite's zone."""
    return DnsServer(suite_zone(), servfail=SUITE_SERVFAIL, silent=SUITE_SILENT).start()
