/** A student's journey through the typed client against a real server: register, log in,
 * browse the catalog, enrol, upload a file through tus, submit to an assignment; an admin
 * makes an instructor, who builds and publishes the course. Every step checks what a user
 * would notice: the status and the returned fields, typed by the generated schema.
 *
 * OCP_BASE_URL, OCP_ADMIN_EMAIL and OCP_ADMIN_PASSWORD name the server and its admin
 * (`ocp serve` with OCP_BOOTSTRAP_ADMIN_EMAIL/_PASSWORD). */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test, type TestContext } from "node:test";
import { DetailedError, Upload } from "tus-js-client";
import { logIn, ocpClient, type OcpClient, type Schemas } from "../src/index.js";

const base = required("OCP_BASE_URL").replace(/\/+$/, "");
const admin = { email: required("OCP_ADMIN_EMAIL"), password: required("OCP_ADMIN_PASSWORD") };
// Unique per run, so the journey also runs against a server that has seen it before.
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const password = "a journey password";
const anonymous = ocpClient(base);

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/** The body of a response that had `status`; else a failure showing what came back. */
function expect<T>(result: { data?: T; error?: unknown; response: Response }, status: number): T {
  const { response } = result;
  const shown = JSON.stringify(result.error ?? result.data);
  assert.equal(response.status, status, `${response.url}: ${response.status} ${shown}`);
  assert.notEqual(result.data, undefined, `${response.url}: no body`);
  return result.data as T;
}

async function signedIn(email: string, secret = password): Promise<OcpClient> {
  const token = expect(await logIn(anonymous, email, secret), 200);
  assert.equal(token.token_type, "bearer");
  assert.ok(token.expires_in > 0 && token.refresh_token.length > 0);
  return ocpClient(base, token.access_token);
}

/** Uploads `bytes` through tus as `token`'s user, in parts of `chunkSize`; resolves to the
 * file id the last PATCH answers with (`OCP-File-Id`) and the number of PATCHes sent. */
function tusUpload(
  token: string,
  bytes: Buffer,
  metadata: Record<string, string>,
  chunkSize: number,
): Promise<{ fileId: string; patches: number }> {
  return new Promise((resolve, reject) => {
    let patches = 0;
    const upload = new Upload(bytes, {
      endpoint: `${base}/api/v1/files/tus`,
      headers: { Authorization: `Bearer ${token}` },
      metadata,
      chunkSize,
      retryDelays: [], // a refusal must show, not be retried
      onAfterResponse: (request) => {
        if (request.getMethod() === "PATCH") patches += 1;
      },
      onError: reject,
      onSuccess: ({ lastResponse }) => {
        const fileId = lastResponse.getHeader("OCP-File-Id");
        if (fileId) resolve({ fileId, patches });
        else reject(new Error(`no OCP-File-Id on the last response (${lastResponse.getStatus()})`));
      },
    });
    upload.start();
  });
}

// The steps share what they make; once one fails, the rest are skipped, not piled on.
let failed = false;
function step(name: string, body: (t: TestContext) => Promise<void>): void {
  test(name, async (t) => {
    if (failed) return t.skip("an earlier step failed");
    try {
      await body(t);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
}

const teacherEmail = `teacher-${run}@example.com`;
const studentEmail = `Student-${run}@Example.com`;
let teacherUser: Schemas["UserOut"];
let teacher: OcpClient;
let student: OcpClient;
let studentToken: string;
let course: Schemas["CourseOut"];
let assignment: Schemas["AssignmentOut"];
let fileId: string;
const upload = Buffer.from(`My answer, run ${run}: the tortoise wins.\n`.repeat(8), "utf8");
// tus metadata: a submission file (an enrolled student's) for the course.
const reportMetadata = () => ({
  filename: "report.txt",
  purpose: "submission",
  course_id: course.id,
  content_type: "text/plain",
});

step("anyone registers; an address is taken once, whatever its case", async () => {
  teacherUser = expect(
    await anonymous.POST("/api/v1/auth/register", {
      body: { email: teacherEmail, password, full_name: "Grace Teacher" },
    }),
    201,
  );
  assert.equal(teacherUser.role, "student");
  assert.equal(teacherUser.email_verified, false);
  const registered = expect(
    await anonymous.POST("/api/v1/auth/register", {
      body: { email: studentEmail, password, full_name: "Sam Student" },
    }),
    201,
  );
  assert.equal(registered.full_name, "Sam Student");
  const again = await anonymous.POST("/api/v1/auth/register", {
    body: { email: studentEmail.toLowerCase(), password, full_name: "Someone Else" },
  });
  assert.equal(again.response.status, 409);
  assert.equal(again.response.headers.get("content-type"), "application/problem+json");
});

step("a wrong password gets 401; the right one a bearer token pair", async () => {
  const wrong = await logIn(anonymous, studentEmail, "not the password");
  assert.equal(wrong.response.status, 401);
  const token = expect(await logIn(anonymous, studentEmail, password), 200);
  studentToken = token.access_token;
  student = ocpClient(base, studentToken);
  const me = expect(await student.GET("/api/v1/users/me"), 200);
  assert.equal(me.email.toLowerCase(), studentEmail.toLowerCase());
  assert.equal(me.role, "student");
  assert.equal((await anonymous.GET("/api/v1/users/me")).response.status, 401);
});

step("the admin makes an instructor, who builds and publishes a course", async () => {
  const root = await signedIn(admin.email, admin.password);
  const promoted = expect(
    await root.PATCH("/api/v1/users/{user_id}", {
      params: { path: { user_id: teacherUser.id } },
      body: { role: "instructor" },
    }),
    200,
  );
  assert.equal(promoted.role, "instructor");

  teacher = await signedIn(teacherEmail);
  const draft = expect(
    await teacher.POST("/api/v1/courses", {
      body: {
        title: `Racing for tortoises ${run}`,
        summary: "Slow and steady",
        tags: ["racing", run],
        level: "beginner",
      },
    }),
    201,
  );
  assert.equal(draft.status, "draft");
  assert.equal(draft.owner_id, teacherUser.id);
  assert.match(draft.slug, /^racing-for-tortoises/);
  const params = { path: { course_id: draft.id } };
  // Nothing to learn yet: a course without a lesson is not published.
  assert.equal(
    (await teacher.POST("/api/v1/courses/{course_id}/publish", { params })).response.status,
    409,
  );

  const module = expect(
    await teacher.POST("/api/v1/courses/{course_id}/modules", {
      params,
      body: { title: "Warm-up" },
    }),
    201,
  );
  assert.equal(module.position, 1);
  const lesson = expect(
    await teacher.POST("/api/v1/courses/{course_id}/modules/{module_id}/lessons", {
      params: { path: { course_id: draft.id, module_id: module.id } },
      body: { title: "Pacing", kind: "text", body_markdown: "# Pace yourself", is_preview: true },
    }),
    201,
  );
  assert.equal(lesson.module_id, module.id);
  assignment = expect(
    await teacher.POST("/api/v1/courses/{course_id}/assignments", {
      params,
      body: { title: "Race report", instructions: "Tell us how it went", max_points: 10 },
    }),
    201,
  );
  assert.equal(assignment.course_id, draft.id);
  assert.equal(assignment.allow_late, true);

  course = expect(await teacher.POST("/api/v1/courses/{course_id}/publish", { params }), 200);
  assert.equal(course.status, "published");
  assert.notEqual(course.published_at, null);
});

step("anyone browses the catalog: the course, its page and its outline", async () => {
  const page = expect(
    await anonymous.GET("/api/v1/courses", { params: { query: { q: run } } }),
    200,
  );
  assert.deepEqual(
    page.items.map((item) => item.id),
    [course.id],
  );
  assert.equal(page.next_cursor, null);
  const tagged = expect(
    await anonymous.GET("/api/v1/courses", { params: { query: { tag: run, sort: "title" } } }),
    200,
  );
  assert.equal(tagged.items[0]?.slug, course.slug);

  const shown = await anonymous.GET("/api/v1/courses/{course_id}", {
    params: { path: { course_id: course.slug } },
  });
  assert.equal(expect(shown, 200).id, course.id);
  assert.ok(shown.response.headers.get("etag"), "a public read carries an ETag");
  const modules = expect(
    await anonymous.GET("/api/v1/courses/{course_id}/modules", {
      params: { path: { course_id: course.id } },
    }),
    200,
  );
  assert.deepEqual(
    modules.map((m) => [m.title, m.lessons.map((l) => [l.title, l.kind, l.is_preview])]),
    [["Warm-up", [["Pacing", "text", true]]]],
  );
});

step("tus refuses a submission file before the student enrols", async () => {
  const refused = await tusUpload(studentToken, upload, reportMetadata(), upload.length).then(
    () => assert.fail("the upload was accepted"),
    (error: unknown) => error,
  );
  assert.ok(refused instanceof DetailedError, String(refused));
  // A 422 on course_id, the answer for a course that does not exist too: nothing leaks.
  assert.equal(refused.originalResponse?.getStatus(), 422);
  const problem = JSON.parse(refused.originalResponse?.getBody() ?? "{}") as Schemas["Problem"];
  assert.equal(problem.status, 422);
  assert.match(JSON.stringify(problem.errors), /"course_id"/);
});

step("a student enrols, once", async () => {
  const params = { path: { course_id: course.id } };
  const enrolment = expect(
    await student.POST("/api/v1/courses/{course_id}/enrollments", { params }),
    201,
  );
  assert.equal(enrolment.course_id, course.id);
  assert.deepEqual(enrolment.progress, { completed: 0, total: 1, percent: 0 });
  const again = expect(
    await student.POST("/api/v1/courses/{course_id}/enrollments", { params }),
    200,
  );
  assert.equal(again.id, enrolment.id);
  const mine = expect(await student.GET("/api/v1/users/me/enrollments"), 200);
  assert.deepEqual(
    mine.items.map((item) => item.course?.title),
    [course.title],
  );
});

step("the student uploads a file through tus, in parts", async () => {
  const sent = await tusUpload(studentToken, upload, reportMetadata(), 128);
  fileId = sent.fileId;
  assert.equal(sent.patches, Math.ceil(upload.length / 128));
  const file = expect(
    await student.GET("/api/v1/files/{file_id}", { params: { path: { file_id: fileId } } }),
    200,
  );
  assert.equal(file.purpose, "submission");
  assert.equal(file.course_id, course.id);
  assert.equal(file.filename, "report.txt");
  assert.equal(file.content_type, "text/plain");
  assert.equal(file.size, upload.length);
  assert.equal(file.sha256, createHash("sha256").update(upload).digest("hex"));
});

step("the student submits to the assignment; the teacher sees the attempt", async () => {
  const params = { path: { assignment_id: assignment.id } };
  const submission = expect(
    await student.POST("/api/v1/assignments/{assignment_id}/submissions", {
      params,
      body: { text: "Report attached", file_ids: [fileId] },
    }),
    201,
  );
  assert.equal(submission.attempt, 1);
  assert.equal(submission.late, false);
  assert.deepEqual(submission.file_ids, [fileId]);
  assert.equal(submission.points, null);

  const seen = expect(
    await teacher.GET("/api/v1/assignments/{assignment_id}/submissions", { params }),
    200,
  );
  assert.deepEqual(
    seen.items.map((item) => [item.id, item.is_latest]),
    [[submission.id, true]],
  );
  const grades = expect(
    await student.GET("/api/v1/courses/{course_id}/grades/me", {
      params: { path: { course_id: course.id } },
    }),
    200,
  );
  assert.deepEqual(
    grades.items.map((item) => [item.assignment_id, item.points]),
    [[assignment.id, null]],
  );
});
