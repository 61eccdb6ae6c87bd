import { expect, test, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import * as fs from "node:fs";

/**
 * Two nodes behind HAProxy (round robin, no stickiness), one PostgreSQL, one Redis, one emulator
 * with Adobe's throttling on. Every request goes through the balancer, which names the node that
 * answered in `x-node`. The last test kills a node, so it stays last.
 */

type Node = { name: string; url: string; internal: string; pid: number };
type Cluster = { balancer: string; emulator: string; nodes: Node[] };

function cluster(): Cluster {
  return JSON.parse(fs.readFileSync(process.env.CLUSTER_INFO ?? "", "utf8"));
}

/** A fresh private address per device (the nodes trust the balancer's X-Forwarded-For). */
function address() {
  const n = () => Math.floor(Math.random() * 250) + 1;
  return `10.${n()}.${n()}.${n()}`;
}

/** A TV, through the balancer: registers and starts an activation with Spectrum. */
async function tv(request: APIRequestContext) {
  const headers = { "x-forwarded-for": address() };
  const registered = await request.post("/tv/v1/devices", {
    headers,
    data: {
      deviceId: `cluster-${Date.now()}-${Math.random().toString(16).slice(2)}`,
      deviceInfo: { model: "Roku Ultra", version: "1.0", osName: "Roku OS", osVersion: "12", connectionType: "LAN" },
    },
  });
  expect(registered.status()).toBe(201);
  const token = (await registered.json()).deviceToken as string;
  const auth = { ...headers, authorization: `Bearer ${token}` };
  const started = await request.post("/tv/v1/activations", { headers: auth, data: { mvpd: "Spectrum" } });
  expect(started.status()).toBe(201);
  const code = (await started.json()).code as string;
  return { auth, code, nodes: [registered.headers()["x-node"], started.headers()["x-node"]] };
}

/** A phone that confirms the code and signs in at the provider; returns when the success page shows. */
async function phoneSignsIn(browser: Browser, code: string) {
  const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": address() } });
  const page = await context.newPage();
  const nodes: string[] = [];
  page.on("response", (response) => {
    const node = response.headers()["x-node"];
    if (node) nodes.push(node);
  });
  await page.goto(`/activate?code=${code}`);
  await expect(page.getByRole("heading", { name: "Is this the code on your TV?" })).toBeVisible();
  await page.getByRole("button", { name: "Continue" }).click();
  await signIn(page);
  const success = Date.now();
  await context.close();
  return { success, nodes };
}

async function signIn(page: Page) {
  await expect(page.getByRole("heading", { name: /^Sign in to / })).toBeVisible();
  await page.getByLabel("Username").fill("premium");
  await page.getByLabel("Password").fill("premium");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("heading", { name: "You're all set: return to your TV" })).toBeVisible();
}

test("a TV and a phone reach both nodes, and the TV learns of the sign-in within a second", async ({ browser, request }) => {
  const { auth, code, nodes: tvNodes } = await tv(request);
  for (let i = 0; i < 2; i += 1) {
    const status = await request.get(`/tv/v1/activations/${code}`, { headers: auth });
    tvNodes.push(status.headers()["x-node"]);
  }
  expect(new Set(tvNodes)).toEqual(new Set(["node-1", "node-2"]));

  const waiting = request
    .get(`/tv/v1/activations/${code}?wait=30`, { headers: auth, timeout: 40_000 })
    .then(async (answer) => ({ learned: Date.now(), body: await answer.json() }));
  const phone = await phoneSignsIn(browser, code);
  expect(new Set(phone.nodes)).toEqual(new Set(["node-1", "node-2"]));
  const { learned, body } = await waiting;
  expect(body.status).toBe("authenticated");
  expect(learned - phone.success).toBeLessThan(1_000);
});

test("the code-guess budget is one for the cluster: the 11th wrong guess is refused, whichever node gets it", async ({ browser }) => {
  const from = address();
  const statuses: number[] = [];
  const nodes: string[] = [];
  for (let i = 0; i < 12; i += 1) {
    // One request per guess (the page alone, not its files), so the balancer's round robin
    // alternates the guesses between the nodes whatever the page loads.
    const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": from } });
    const response = await context.request.get(`/activate?code=NOPE${String(i).padStart(3, "0")}`, {
      headers: { accept: "text/html" },
    });
    statuses.push(response.status());
    nodes.push(response.headers()["x-node"] ?? "");
    await context.close();
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(404));
  expect(statuses.slice(10)).toEqual([429, 429]);
  expect(new Set(nodes)).toEqual(new Set(["node-1", "node-2"]));
});

test("a logout on one node is seen on the other at once", async ({ browser, request }) => {
  const { auth, code } = await tv(request);
  await phoneSignsIn(browser, code);
  const profileNodes: string[] = [];
  for (let i = 0; i < 2; i += 1) {
    const profile = await request.get("/tv/v1/profile", { headers: auth });
    expect((await profile.json()).authenticated).toBe(true);
    profileNodes.push(profile.headers()["x-node"]);
  }
  expect(new Set(profileNodes)).toEqual(new Set(["node-1", "node-2"]));
  const logout = await request.post("/tv/v1/logout", { headers: auth });
  expect(logout.ok()).toBe(true);
  // The node that logged out has told Redis before answering; the other acts on the message
  // within milliseconds. Both nodes (round robin) answer "not signed in" within a second.
  await expect
    .poll(
      async () => {
        const answers: boolean[] = [];
        for (let i = 0; i < 2; i += 1) {
          const profile = await request.get("/tv/v1/profile", { headers: auth });
          answers.push((await profile.json()).authenticated);
        }
        return answers;
      },
      { timeout: 1_000, intervals: [50] },
    )
    .toEqual([false, false]);
});

test("the emulator never answered 429 to the service", async ({ request }) => {
  for (const node of cluster().nodes) {
    const metrics = await (await request.get(`${node.internal}/metrics`)).text();
    expect(metrics).toContain("adobe_pass_calls_total");
    expect(metrics).not.toMatch(/adobe_pass_calls_total\{[^}]*outcome="throttled"\} [1-9]/);
  }
});

test("kill -9 of one node while a TV waits: the TV reconnects through the balancer and still learns", async ({ browser, request }) => {
  const { balancer, nodes } = cluster();
  const { auth, code } = await tv(request);
  const stream = await fetch(`${balancer}/tv/v1/activations/${code}/events`, { headers: auth });
  expect(stream.status).toBe(200);
  const served = nodes.find((node) => node.name === stream.headers.get("x-node"));
  expect(served).toBeDefined();
  process.kill(served!.pid, "SIGKILL");
  // The stream breaks with its node.
  const reader = stream.body!.getReader();
  await expect
    .poll(async () => {
      try {
        return (await reader.read()).done;
      } catch {
        return true;
      }
    }, { timeout: 10_000 })
    .toBe(true);

  // The TV reconnects through the balancer (which now sends it to the other node) and waits.
  const waiting = (async () => {
    for (;;) {
      const answer = await request.get(`/tv/v1/activations/${code}?wait=30`, { headers: auth, timeout: 40_000 });
      if (answer.status() >= 500) continue;
      const body = await answer.json();
      if (body.status !== "pending") return { body, node: answer.headers()["x-node"] };
    }
  })();
  await phoneSignsIn(browser, code);
  const { body, node } = await waiting;
  expect(body.status).toBe("authenticated");
  expect(node).not.toBe(served!.name);
});
