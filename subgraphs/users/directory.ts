/** The users of the example platform, kept in memory. */
export interface User {
  id: string;
  name: string;
  email: string;
}

const SEED: User[] = [
  { id: 'u1', name: 'Ada Lovelace', email: 'ada@example.com' },
  { id: 'u2', name: 'Grace Hopper', email: 'grace@example.com' },
  { id: 'u3', name: 'Alan Turing', email: 'alan@example.com' },
];

export class UserDirectory {
  private readonly users: Map<string, User>;

  /** `seed`: the users to hold (the example's three by default; the gateway bench brings its own). */
  constructor(seed: readonly User[] = SEED) {
    this.users = new Map(seed.map((user) => [user.id, { ...user }]));
  }

  find(id: string): User | undefined {
    return this.users.get(id);
  }

  list(): User[] {
    return [...this.users.values()];
  }
}
