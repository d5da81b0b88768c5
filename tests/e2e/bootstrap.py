"""Fills a fresh Mattermost server with a known workspace, over its REST API.

The first account created on an empty server becomes its system admin; the
admin then makes a team, four people with personal access tokens, the
`whoknows` bot with its token, and two channels with explicit members:

    team members          admin, alice, bob, carol, dave, whoknows
    public  "engineering" alice, bob, carol, dave, whoknows
    private "secret-plans" alice, bob, whoknows      (carol and dave are not in it)

Joining the team also joins everyone to the team's default channels
(town-square, off-topic).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

PEOPLE = ("alice", "bob", "carol", "dave")
BOT_USERNAME = "whoknows"
ADMIN_USERNAME = "sysadmin"


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, response: httpx.Response) -> None:
        super().__init__(f"{method} {path} -> HTTP {response.status_code}: {response.text[:500]}")
        self.status_code = response.status_code


class Api:
    """A small synchronous Mattermost REST client, authenticated by one token."""

    def __init__(self, url: str, token: str | None = None, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url
        self.token = token
        self._client = httpx.Client(base_url=f"{url}/api/v4", headers=headers, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """Any answer, including errors (tests check for 403/404)."""
        return self._client.request(method, path, json=body)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The decoded JSON answer; raises ApiError on an HTTP error."""
        response = self.request(method, path, body)
        if response.is_error:
            raise ApiError(method, path, response)
        return response.json() if response.content else None

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body)


@dataclass(frozen=True)
class User:
    id: str
    username: str
    password: str | None  # None for the bot
    token: str
    email: str = ""

    def api(self, url: str) -> Api:
        return Api(url, self.token)


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    team_id: str
    private: bool
    members: frozenset[str]  # usernames


@dataclass(frozen=True)
class Workspace:
    url: str
    team_id: str
    team_name: str
    admin: User
    users: dict[str, User]  # alice, bob, carol, dave
    bot: User
    public_channel: Channel
    private_channel: Channel
    everyone: dict[str, User] = field(default_factory=dict)  # users + bot + admin

    def user(self, username: str) -> User:
        return self.everyone[username]


def password_for(username: str) -> str:
    return f"{username}-e2e-Passw0rd!"


def _create_person(anonymous: Api, username: str) -> tuple[str, str]:
    email = f"{username}@whoknows.test"
    created = anonymous.post(
        "/users", {"username": username, "email": email, "password": password_for(username)}
    )
    return created["id"], email


def _login(url: str, username: str) -> str:
    with httpx.Client(timeout=30.0) as client:
        answer = client.post(
            f"{url}/api/v4/users/login",
            json={"login_id": username, "password": password_for(username)},
        )
    if answer.is_error:
        raise ApiError("POST", "/users/login", answer)
    return answer.headers["Token"]


def _access_token(admin: Api, user_id: str, description: str) -> str:
    token: str = admin.post(f"/users/{user_id}/tokens", {"description": description})["token"]
    return token


def create_channel(
    admin: Api,
    workspace_users: dict[str, User],
    team_id: str,
    members: Iterable[str],
    *,
    private: bool = False,
    name: str | None = None,
) -> Channel:
    """A channel whose members are exactly `members` (usernames).

    The first human member creates it (creators join their channels); when
    there is none the admin creates it and then leaves.
    """
    wanted = list(dict.fromkeys(members))
    unknown = [m for m in wanted if m not in workspace_users]
    if unknown:
        raise ValueError(f"unknown users {unknown}")
    name = name or f"c-{uuid.uuid4().hex[:12]}"
    body = {
        "team_id": team_id,
        "name": name,
        "display_name": name,
        "type": "P" if private else "O",
    }
    creator = next((m for m in wanted if workspace_users[m].password is not None), None)
    creator_api = (
        Api(admin.url, workspace_users[creator].token) if creator is not None else None
    )
    try:
        channel = (creator_api or admin).post("/channels", body)
    finally:
        if creator_api is not None:
            creator_api.close()
    for member in wanted:
        if member != creator:
            admin.post(f"/channels/{channel['id']}/members", {"user_id": workspace_users[member].id})
    if creator is None:
        admin_id = admin.get("/users/me")["id"]
        admin.call("DELETE", f"/channels/{channel['id']}/members/{admin_id}")
    return Channel(channel["id"], name, team_id, private, frozenset(wanted))


def bootstrap(url: str) -> Workspace:
    """Populates an empty server (its first user must become system admin)."""
    with Api(url) as anonymous:
        admin_id, admin_email = _create_person(anonymous, ADMIN_USERNAME)
        people = {name: _create_person(anonymous, name) for name in PEOPLE}
    with Api(url, _login(url, ADMIN_USERNAME)) as session:
        me = session.get("/users/me")
        if "system_admin" not in me["roles"].split():
            raise RuntimeError(
                f"{ADMIN_USERNAME} is not system admin (roles {me['roles']!r}): "
                "the server's database was not empty"
            )
        admin = User(admin_id, ADMIN_USERNAME, password_for(ADMIN_USERNAME),
                     _access_token(session, admin_id, "e2e admin"), admin_email)
    with Api(url, admin.token) as api:
        users = {
            name: User(user_id, name, password_for(name),
                       _access_token(api, user_id, "e2e"), email)
            for name, (user_id, email) in people.items()
        }
        bot_created = api.post("/bots", {
            "username": BOT_USERNAME,
            "display_name": "Who knows",
            "description": "whoknows end-to-end test bot",
        })
        bot = User(bot_created["user_id"], BOT_USERNAME, None,
                   _access_token(api, bot_created["user_id"], "e2e bot"))
        team_name = "whoknows-e2e"
        team = api.post("/teams", {"name": team_name, "display_name": "whoknows e2e", "type": "O"})
        members = [{"team_id": team["id"], "user_id": u.id} for u in (*users.values(), bot)]
        api.post(f"/teams/{team['id']}/members/batch", members)
        everyone = {**users, BOT_USERNAME: bot, ADMIN_USERNAME: admin}
        public = create_channel(api, everyone, team["id"], [*PEOPLE, BOT_USERNAME],
                                name="engineering")
        private = create_channel(api, everyone, team["id"], ["alice", "bob", BOT_USERNAME],
                                 private=True, name="secret-plans")
    return Workspace(url, team["id"], team_name, admin, users, bot, public, private, everyone)
