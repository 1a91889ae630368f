"""Passwords and email addresses: changing a password, resetting a forgotten one by mail,
verifying an address by mail. Every mailed token is single-use and stored only hashed.

Mail leaves through the worker: a request queues a job and answers, so a request about a
known address does the same work as one about an unknown address (one insert), and a mail
server that is down changes no answer (the job is retried)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ocp.application.events.jobs import Checkpoint, JobQueue
from ocp.application.identity.common import (
    IdentityPolicy,
    account_of,
    check_current_password,
    save_user,
)
from ocp.application.ports.common import Clock
from ocp.application.ports.events import Job
from ocp.application.ports.identity import (
    LoginThrottle,
    Mailer,
    MailMessage,
    OneTimePurpose,
    OneTimeTokenStore,
    PasswordHasher,
    RefreshTokenStore,
    TokenIssuer,
    UserRepository,
)
from ocp.domain.errors import Conflict, InvalidOneTimeToken, PermissionDenied, RuleViolated
from ocp.domain.users import Email, Password, User

PASSWORD_RESET_JOB = "password_reset_mail"
EMAIL_VERIFICATION_JOB = "email_verification_mail"
EMAIL_CHANGE_JOB = "email_change_mail"
EMAIL_CHANGED_JOB = "email_changed_notice"


class PasswordService:
    def __init__(
        self,
        *,
        users: UserRepository,
        refresh_tokens: RefreshTokenStore,
        one_time_tokens: OneTimeTokenStore,
        hasher: PasswordHasher,
        tokens: TokenIssuer,
        throttle: LoginThrottle,
        mailer: Mailer,
        queue: JobQueue,
        clock: Clock,
        policy: IdentityPolicy,
    ) -> None:
        self._queue = queue
        self._users = users
        self._refresh_tokens = refresh_tokens
        self._one_time = one_time_tokens
        self._hasher = hasher
        self._tokens = tokens
        self._throttle = throttle
        self._mailer = mailer
        self._clock = clock
        self._policy = policy

    async def change_password(
        self, actor: User, session_id: str, current_password: str, new_password: str
    ) -> None:
        secret = Password(new_password)
        await check_current_password(
            self._hasher,
            self._throttle,
            self._clock.now(),
            actor,
            current_password,
            RuleViolated("the current password is not correct", field="current_password"),
        )
        password_hash = await self._hasher.hash(secret.value)
        now = self._clock.now()
        await save_user(
            self._users,
            actor,
            None,
            lambda user: user.change_password_hash(password_hash, now, revoke_access=False),
        )
        await self._refresh_tokens.revoke_user(actor.id, except_family=session_id)

    async def request_password_reset(self, email: str) -> None:
        """Always quiet: whether the address is known is never revealed, not even by how long
        the answer takes (the lookup happens in the worker)."""
        try:
            Email(email)
        except RuleViolated:
            return
        await self._queue.queue(PASSWORD_RESET_JOB, {"email": email})

    async def send_password_reset(self, email: str) -> None:
        """The worker's half of a reset request: mail a token if the address is a live
        account's, else nothing."""
        try:
            key = Email(email).key
        except RuleViolated:
            return
        user = await account_of(self._users, email, key)
        if user is None or not user.is_active:
            return
        await self._mail_one_time(
            OneTimePurpose.PASSWORD_RESET,
            user,
            subject="Reset your OCP password",
            intro="Someone asked to reset the password of your OCP account.",
            url_template=self._policy.password_reset_url,
            ttl_s=self._policy.password_reset_ttl_s,
        )

    async def confirm_password_reset(self, token: str, new_password: str) -> None:
        secret = Password(new_password)
        user = await self._consume(OneTimePurpose.PASSWORD_RESET, token)
        password_hash = await self._hasher.hash(secret.value)
        now = self._clock.now()
        # The token is spent: a profile edit meanwhile must not make the reset fail.
        await save_user(
            self._users,
            user,
            None,
            lambda u: u.change_password_hash(password_hash, now, revoke_access=True),
        )
        await self._refresh_tokens.revoke_user(user.id)
        await self._throttle.clear(user.email.key)

    async def request_email_verification(self, actor: User) -> None:
        if actor.email_verified:
            return
        await self._queue.queue(EMAIL_VERIFICATION_JOB, {"user_id": actor.id}, created_by=actor.id)

    async def send_email_verification(self, user_id: str) -> None:
        """The worker's half: mail a verification token unless the address is verified."""
        actor = await self._users.get(user_id)
        if actor is None or not actor.is_active or actor.email_verified:
            return
        await self._mail_one_time(
            OneTimePurpose.EMAIL_VERIFICATION,
            actor,
            subject="Confirm your OCP email address",
            intro="Please confirm that this address belongs to your OCP account.",
            url_template=self._policy.email_verification_url,
            ttl_s=self._policy.email_verification_ttl_s,
        )

    async def confirm_email_verification(self, token: str) -> None:
        user = await self._consume(OneTimePurpose.EMAIL_VERIFICATION, token)
        now = self._clock.now()
        await save_user(self._users, user, None, lambda u: u.verify_email(now))

    # --- changing the address: proven by a token mailed to the new one -----------------

    async def request_email_change(
        self, actor: User, session_id: str, new_email: str, current_password: str
    ) -> None:
        """Check the password and that the address is free, then mail (from the worker) a
        single-use token to the new address; nothing changes until it is confirmed."""
        try:
            email = Email(new_email)
        except RuleViolated as exc:
            raise RuleViolated(str(exc), field="new_email") from None
        await check_current_password(
            self._hasher,
            self._throttle,
            self._clock.now(),
            actor,
            current_password,
            PermissionDenied("the current password is not correct"),
        )
        if email.key == actor.email.key:
            raise RuleViolated("is already your address", field="new_email")
        if await self._users.get_by_email(email.key) is not None:
            raise Conflict("that email address is taken")
        payload = {"user_id": actor.id, "new_email": email.value, "session_id": session_id}
        await self._queue.queue(EMAIL_CHANGE_JOB, payload, created_by=actor.id)

    async def send_email_change(self, user_id: str, new_email: str, session_id: str) -> None:
        """The worker's half: mail the token to the new address (asking again invalidates
        the earlier link)."""
        user = await self._users.get(user_id)
        if user is None or not user.is_active:
            return
        await self._mail_one_time(
            OneTimePurpose.EMAIL_CHANGE,
            user,
            subject="Confirm your new OCP email address",
            intro="Please confirm that this address is to be the one of your OCP account.",
            url_template=self._policy.email_change_url,
            ttl_s=self._policy.email_change_ttl_s,
            to=new_email,
            payload={"new_email": new_email, "session_id": session_id},
        )

    async def confirm_email_change(self, token: str) -> None:
        """The address changes; every session but the one that asked ends; the old address
        is told (by the worker)."""
        grant = await self._one_time.consume(
            OneTimePurpose.EMAIL_CHANGE, self._tokens.hash_secret_token(token), self._clock.now()
        )
        user = await self._users.get(grant.user_id) if grant else None
        if grant is None or user is None or not user.is_active:
            raise InvalidOneTimeToken("the token is unknown, already used or expired")
        email = Email(grant.payload["new_email"])
        old = user.email
        holder = await self._users.get_by_email(email.key)
        if holder is not None and holder.id != user.id:
            raise Conflict("that email address was taken meanwhile")
        now = self._clock.now()
        # The unique index on the address decides a race with a registration.
        await save_user(self._users, user, None, lambda u: u.change_email(email, now))
        await self._refresh_tokens.revoke_user(user.id, except_family=grant.payload["session_id"])
        await self._queue.queue(
            EMAIL_CHANGED_JOB, {"to": old.value, "new_email": email.value}, created_by=user.id
        )

    async def send_email_changed(self, to: str, new_email: str) -> None:
        try:
            address = str(Email(to))
        except RuleViolated:
            return
        await self._mailer.send(
            MailMessage(
                to=address,
                subject="Your OCP email address was changed",
                text=(
                    f"The email address of your OCP account is now {new_email}.\n\n"
                    "If this was not you, reset your password and contact support.\n"
                ),
            )
        )

    async def _mail_one_time(
        self,
        purpose: OneTimePurpose,
        user: User,
        *,
        subject: str,
        intro: str,
        url_template: str,
        ttl_s: int,
        to: str | None = None,
        payload: dict[str, str] | None = None,
    ) -> None:
        """Issue a single-use token and mail it (to the user, or `to`). One outstanding token
        per purpose: asking again invalidates the earlier mail's link."""
        try:
            address = str(Email(to or user.email.value))
        except RuleViolated:
            # An address stored before today's rules (a control or hidden character) is never
            # put in a mail header.
            return
        await self._one_time.discard_user(purpose, user.id)
        token, token_hash = self._tokens.new_secret_token()
        expires_at = self._clock.now() + timedelta(seconds=ttl_s)
        await self._one_time.add(purpose, token_hash, user.id, expires_at, payload)
        await self._mailer.send(
            MailMessage(
                to=address,
                subject=subject,
                text=_mail_text(intro, url_template, token, ttl_s),
            )
        )

    async def _consume(self, purpose: OneTimePurpose, token: str) -> User:
        grant = await self._one_time.consume(
            purpose, self._tokens.hash_secret_token(token), self._clock.now()
        )
        user = await self._users.get(grant.user_id) if grant else None
        if user is None:
            raise InvalidOneTimeToken("the token is unknown, already used or expired")
        return user


def _mail_text(intro: str, url_template: str, token: str, ttl_s: int) -> str:
    where = (
        f"Open this link:\n\n  {url_template.replace('{token}', token)}\n"
        if url_template
        else f"Your token:\n\n  {token}\n"
    )
    hours = max(1, ttl_s // 3600)
    return (
        f"{intro}\n\n{where}\nIt works once and expires in {hours} hour(s). "
        "If this was not you, ignore this message.\n"
    )


class PasswordResetMail:
    """The job of a password-reset request."""

    def __init__(self, passwords: PasswordService) -> None:
        self._passwords = passwords

    async def run(self, job: Job, checkpoint: Checkpoint) -> dict[str, Any] | None:
        await self._passwords.send_password_reset(job.payload["email"])
        return None


class VerificationMail:
    """The job of an email-verification request."""

    def __init__(self, passwords: PasswordService) -> None:
        self._passwords = passwords

    async def run(self, job: Job, checkpoint: Checkpoint) -> dict[str, Any] | None:
        await self._passwords.send_email_verification(job.payload["user_id"])
        return None


class EmailChangeMail:
    """The job of an email-change request: the token to the new address."""

    def __init__(self, passwords: PasswordService) -> None:
        self._passwords = passwords

    async def run(self, job: Job, checkpoint: Checkpoint) -> dict[str, Any] | None:
        p = job.payload
        await self._passwords.send_email_change(p["user_id"], p["new_email"], p["session_id"])
        return None


class EmailChangedNotice:
    """The job of a confirmed email change: the old address is told."""

    def __init__(self, passwords: PasswordService) -> None:
        self._passwords = passwords

    async def run(self, job: Job, checkpoint: Checkpoint) -> dict[str, Any] | None:
        await self._passwords.send_email_changed(job.payload["to"], job.payload["new_email"])
        return None
