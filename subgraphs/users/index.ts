/** The users subgraph: who people are. Owns `User`. */
import type { SubgraphContext, SubgraphFactory } from '@trellis/kit';
import { CACHE_CONTROL, FEDERATION_LINK } from '../federation';
import { UserDirectory, type User } from './directory';

export const typeDefs = /* GraphQL */ `
  ${FEDERATION_LINK}
  ${CACHE_CONTROL}

  type Query {
    "The caller, from their verified identity; null when anonymous."
    me: User @authenticated
    user(id: ID!): User
    users: [User!]!
  }

  "Kept 30 s per caller (its email is only to itself)."
  type User @key(fields: "id") @cacheControl(maxAge: 30, scope: PRIVATE) {
    id: ID!
    name: String!
    "Only to this user, with users:email; anyone else gets FORBIDDEN."
    email: String! @requiresScopes(scopes: [["users:email"]])
  }
`;

/** The users subgraph over `seed` (the example's users by default). */
export const usersSubgraphOf = (seed?: readonly User[]): SubgraphFactory => () => {
  const directory = new UserDirectory(seed);
  return {
    name: 'users',
    typeDefs,
    resolvers: {
      Query: {
        me: (_: unknown, __: unknown, { user }: { user: { id: string } | null }) => (user ? (directory.find(user.id) ?? null) : null),
        user: (_: unknown, { id }: { id: string }) => directory.find(id) ?? null,
        users: () => directory.list(),
      },
      User: {
        __resolveReference: ({ id }: { id: string }) => directory.find(id) ?? null,
        email: (user: User, _: unknown, context: SubgraphContext) => {
          context.requireOwner(user.id, `the email of user ${user.id}`);
          return user.email;
        },
      },
    },
  };
};

export const usersSubgraph: SubgraphFactory = usersSubgraphOf();
