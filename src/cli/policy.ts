// Placeholder until its issue lands; replaced by the real command.
export default async function (_argv: string[]): Promise<number> {
  process.stderr.write("forge: 'policy' is not built yet\n");
  return 1;
}
