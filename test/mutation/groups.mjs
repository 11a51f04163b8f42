// The security-critical modules `npm run mutate` mutates, and the test files that guard each. The
// globs name the file, not its folder, where a file may move between folders.

/** @type {{ name: string; mutate: string[]; tests: string[] }[]} */
export const MUTATION_GROUPS = [
  {
    name: 'auth',
    mutate: ['shared/auth/*.ts', 'shared/{adapters/hono,http}/auth.ts'],
    tests: [
      'test/unit/access-token.test.ts',
      'test/unit/password.test.ts',
      'test/unit/authorize.test.ts',
      'test/unit/http-auth.test.ts',
      'test/unit/credential-cache.test.ts',
      'test/integration/authenticate.test.ts',
      'test/integration/credential-reuse.test.ts',
      'test/integration/auth-tokens.test.ts',
      'test/integration/api-tenancy.test.ts',
      'test/integration/scope-matrix.test.ts',
    ],
  },
  {
    name: 'tenancy',
    mutate: ['shared/repositories/*.ts'],
    tests: [
      'test/contract/repositories.test.ts',
      'test/contract/source-repository.test.ts',
      'test/contract/chunk-repository.test.ts',
      'test/contract/chat-repository.test.ts',
      'test/contract/publishable-key-repository.test.ts',
      'test/contract/bot-repository.test.ts',
      'test/contract/feedback-repository.test.ts',
      'test/contract/job-repository.test.ts',
      'test/contract/usage-repository.test.ts',
      'test/contract/bot-credential-store.test.ts',
      'test/unit/pagination.test.ts',
      'test/integration/rls.test.ts',
      'test/integration/isolation-layers.test.ts',
      'test/integration/retrieval-lexical-scoring.test.ts',
      'test/integration/cross-tenant-matrix.test.ts',
      'test/integration/sources-lifecycle.test.ts',
      'test/integration/bots.test.ts',
    ],
  },
  {
    name: 'vectors',
    mutate: ['shared/adapters/{pgvector,qdrant}/*.ts'],
    tests: [
      'test/contract/vector-store.test.ts',
      'test/integration/pgvector-store.test.ts',
      'test/integration/qdrant-store.test.ts',
      'test/unit/pgvector-*.test.ts',
      'test/unit/qdrant-provider-error.test.ts',
      'test/integration/chat-isolation.test.ts',
    ],
  },
  {
    name: 'keys',
    mutate: ['shared/adapters/{kms,local-keyring}/*.ts'],
    tests: ['test/unit/key-vault-*.test.ts', 'test/unit/rotate-credentials.test.ts'],
  },
  {
    name: 'ssrf',
    mutate: ['shared/rag/**/{fetch-url,pinned-request,public-address}.ts'],
    tests: ['test/unit/rag-fetch-url.test.ts'],
  },
  {
    name: 'quota',
    mutate: ['shared/usecases/*/quota.ts'],
    // The admission rules directly on a database: chat-quotas.test.ts covers the same through the chat
    // endpoints, but sets up an app and fake providers per run, minutes per mutant here.
    tests: ['test/integration/quota-admission.test.ts'],
  },
];
