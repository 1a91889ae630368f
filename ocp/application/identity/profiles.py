"""Accounts and profiles: signing up, and editing one's own profile (name, bio, avatar)."""

from __future__ import annotations

from ocp.application.events.recorder import EventRecorder
from ocp.application.identity.common import check_version, save_user
from ocp.application.ports.common import Clock, IdGenerator
from ocp.application.ports.events import Subject
from ocp.application.ports.files import FileRepository
from ocp.application.ports.identity import PasswordHasher, UserRepository
from ocp.domain.errors import RuleViolated
from ocp.domain.files import FilePurpose
from ocp.domain.users import Email, Password, ProfileChanges, Role, User


class ProfileService:
    def __init__(
        self,
        *,
        users: UserRepository,
        files: FileRepository,
        hasher: PasswordHasher,
        clock: Clock,
        ids: IdGenerator,
        events: EventRecorder,
    ) -> None:
        self._events = events
        self._users = users
        self._files = files
        self._hasher = hasher
        self._clock = clock
        self._ids = ids

    async def register(
        self, email: str, password: str, full_name: str, role: Role = Role.STUDENT
    ) -> User:
        address, secret = Email(email), Password(password)
        now = self._clock.now()
        user = User.register(
            id=self._ids.new_id(),
            email=address,
            name=full_name,
            password_hash=await self._hasher.hash(secret.value),
            now=now,
            role=role,
        )
        event = self._events.event("user.created", user)
        async with self._events.recording(Subject("users", user.id, user.version), event):
            await self._users.add(user)
        return user

    async def update_profile(
        self, actor: User, changes: ProfileChanges, if_match: int | None = None
    ) -> User:
        check_version(actor, if_match)
        avatar = changes.avatar_file_id
        if isinstance(avatar, str):
            file = await self._files.get(avatar)
            if file is None or not file.attachable_by(actor.id, FilePurpose.AVATAR):
                raise RuleViolated("is not one of your uploaded avatar images", "avatar_file_id")
        now = self._clock.now()
        return await save_user(
            self._users,
            actor,
            if_match,
            lambda user: user.edit_profile(now, changes),
        )
