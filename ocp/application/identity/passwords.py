"""Passwords and email addresses: changing a password, resetting a forgotten one by mail,
verifying an address by mail. Every mailed token is single-use and stored only hashed.

Mail leaves through the worker: a request queues a job and answers, so a request about a
known address does the same work as one about an unknown address (one insert), and a mail
server that is down changes no answer (the job is retried)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ocp.application.events.jobs import Checkpoint, JobQueue
from ocp.application.identity.common import IdentityPolicy, account_of, save_user
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
from ocp.domain.errors import InvalidOneTimeToken, RuleViolated
from ocp.domain.users import Email, Password, User

PASSWORD_RESET_JOB = "password_reset_mail"
EMAIL_VERIFICATION_JOB = "email_verification_mail"


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
        if not await self._hasher.verify(current_password, actor.password_hash):
            raise RuleViolated("the current password is not correct", field="current_password")
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

    async def _mail_one_time(
        self,
        purpose: OneTimePurpose,
        user: User,
        *,
        subject: str,
        intro: str,
        url_template: str,
        ttl_s: int,
    ) -> None:
        """Issue a single-use token and mail it. One outstanding token per purpose: asking
        again invalidates the earlier mail's link."""
        try:
            to = str(Email(user.email.value))
        except RuleViolated:
            # An address stored before today's rules (a control or hidden character) is never
            # put in a mail header.
            return
        await self._one_time.discard_user(purpose, user.id)
        token, token_hash = self._tokens.new_secret_token()
        expires_at = self._clock.now() + timedelta(seconds=ttl_s)
        await self._one_time.add(purpose, token_hash, user.id, expires_at)
        await self._mailer.send(
            MailMessage(
                to=to,
                subject=subject,
                text=_mail_text(intro, url_template, token, ttl_s),
            )
        )

    async def _consume(self, purpose: OneTimePurpose, token: str) -> User:
        user_id = await self._one_time.consume(
            purpose, self._tokens.hash_secret_token(token), self._clock.now()
        )
        user = await self._users.get(user_id) if user_id else None
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
