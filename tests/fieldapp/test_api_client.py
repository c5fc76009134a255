"""ApiClient against a real local HTTP server (http.server in a thread), no mocks."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from fieldapp.api_client import (
    ApiClient,
    Rejected,
    ServerFault,
    ServerTimeout,
    ServerUnreachable,
    UserInfo,
)
from fieldapp.screens.online import minute_file_name

USER = {  # as the server answers it (sync.bodies.UserOut)
    "id": "u-7",
    "username": "zhangsan",
    "display_name": "张三",
    "role": "inspector",
    "department_code": "zhzf",
}


class Scripted:
    """Each POST gets the next (status, body, delay_s); requests are recorded."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, Any, float]] = []
        self.requests: list[tuple[str, dict[str, str], Any]] = []


@pytest.fixture
def scripted() -> Iterator[tuple[Scripted, str]]:
    script = Scripted()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            script.requests.append(
                (self.path, dict(self.headers), json.loads(self.rfile.read(length)))
            )
            status, body, delay = script.answers.pop(0)
            if delay:
                threading.Event().wait(delay)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except BrokenPipeError:  # the client gave up (the timeout test)
                pass

        def do_GET(self) -> None:
            script.requests.append((self.path, dict(self.headers), None))
            status, body, _ = script.answers.pop(0)
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield script, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_login_posts_json_credentials_and_reads_token_and_user(
    scripted: tuple[Scripted, str],
) -> None:
    script, url = scripted
    script.answers.append((200, {"token": "abc", "user": USER}, 0))
    result = ApiClient(url + "/").login("zhangsan", "pw")
    assert result.token == "abc"
    assert result.user == UserInfo("u-7", "zhangsan", "张三", "inspector", "zhzf")
    path, headers, body = script.requests[0]
    assert path == "/auth/login"
    assert body == {"username": "zhangsan", "password": "pw"}
    assert "Authorization" not in headers


def test_a_user_with_a_blank_department_or_display_name_is_accepted(
    scripted: tuple[Scripted, str],
) -> None:
    script, url = scripted
    user = {**USER, "department_code": "", "display_name": ""}
    script.answers.append((200, {"token": "abc", "user": user}, 0))
    result = ApiClient(url).login("zhangsan", "pw")
    assert result.user.department_code is None
    assert result.user.display_name == "zhangsan"


def test_401_detail_becomes_rejected_with_code_and_reason(
    scripted: tuple[Scripted, str],
) -> None:
    script, url = scripted
    detail = {"code": "bad_credentials", "reason": "用户名或密码错误"}
    script.answers.append((401, {"detail": detail}, 0))
    with pytest.raises(Rejected) as caught:
        ApiClient(url).login("zhangsan", "nope")
    assert (caught.value.status, caught.value.code, caught.value.reason) == (
        401,
        "bad_credentials",
        "用户名或密码错误",
    )


def test_fastapi_validation_detail_as_text_is_kept_as_reason(
    scripted: tuple[Scripted, str],
) -> None:
    script, url = scripted
    script.answers.append((422, {"detail": "username missing"}, 0))
    with pytest.raises(Rejected) as caught:
        ApiClient(url).login("", "")
    assert caught.value.reason == "username missing"


def test_500_and_non_json_answers_are_server_faults(scripted: tuple[Scripted, str]) -> None:
    script, url = scripted
    script.answers.append((500, b"<html>oops</html>", 0))
    script.answers.append((200, b"not json", 0))
    script.answers.append((200, {"token": "abc"}, 0))  # no user
    for _ in range(3):
        with pytest.raises(ServerFault):
            ApiClient(url).login("zhangsan", "pw")


def test_nothing_listening_is_unreachable() -> None:
    with pytest.raises(ServerUnreachable) as caught:
        ApiClient(f"http://127.0.0.1:{closed_port()}").login("zhangsan", "pw")
    assert not isinstance(caught.value, ServerTimeout)


def test_slow_server_times_out_as_unreachable(scripted: tuple[Scripted, str]) -> None:
    script, url = scripted
    script.answers.append((200, {"token": "abc", "user": USER}, 1.0))
    with pytest.raises(ServerTimeout) as caught:
        ApiClient(url, timeout_s=0.2).login("zhangsan", "pw")
    assert isinstance(caught.value, ServerUnreachable)  # the UI treats it as offline


def test_garbage_address_is_unreachable_not_a_crash() -> None:
    with pytest.raises(ServerUnreachable):
        ApiClient("http://").login("zhangsan", "pw")


def test_post_json_sends_the_bearer_token_and_a_refusal_keeps_the_rules_reason(
    scripted: tuple[Scripted, str],
) -> None:
    script, url = scripted
    script.answers.append((201, {"id": "d1"}, 0))
    script.answers.append((409, {"detail": {"code": "dispute_open", "reason": "已有异议"}}, 0))
    client = ApiClient(url, token="tok")
    assert client.post_json("/workflow/cases/c1/disputes", {"reason": "r"}) == {"id": "d1"}
    path, headers, body = script.requests[0]
    assert path == "/workflow/cases/c1/disputes" and body == {"reason": "r"}
    assert headers["Authorization"] == "Bearer tok"
    with pytest.raises(Rejected) as refused:
        client.post_json("/workflow/cases/c1/disputes", {"reason": "r"})
    assert (refused.value.status, refused.value.code) == (409, "dispute_open")
    assert refused.value.reason == "已有异议"


def test_a_file_comes_back_byte_for_byte_fetched_with_the_users_token(
    scripted: tuple[Scripted, str],
) -> None:
    script, url = scripted
    docx_bytes = b"PK\x03\x04" + bytes(range(256)) * 4
    script.answers.append((200, docx_bytes, 0))
    assert ApiClient(url, token="t-1").get_bytes("/minutes/m-1/file") == docx_bytes
    path, headers, _ = script.requests[0]
    assert path == "/minutes/m-1/file" and headers["Authorization"] == "Bearer t-1"


def test_a_file_the_user_may_not_see_is_refused_with_the_servers_reason(
    scripted: tuple[Scripted, str],
) -> None:
    script, url = scripted
    detail = {"code": "not_found", "reason": "纪要不存在或无权查看"}
    script.answers.append((404, {"detail": detail}, 0))
    with pytest.raises(Rejected) as refused:
        ApiClient(url, token="t-1").get_bytes("/minutes/m-2/file")
    assert refused.value.status == 404 and refused.value.reason == "纪要不存在或无权查看"


def test_a_minute_is_saved_under_its_title_without_path_characters() -> None:
    name = minute_file_name("会议纪要：案件 YX261129/ABC 职责异议", "83b68eb4-1f2e")
    assert name == "会议纪要：案件 YX261129ABC 职责异议-83b68eb4.docx"
    assert minute_file_name(" / ", "0123456789") == "会议纪要-01234567.docx"
