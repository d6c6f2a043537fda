// Placeholder until its issue lands; replaced by the real commands.
const todo = async (_argv: string[]): Promise<number> => {
  process.stderr.write("forge-agent: service commands are not built yet\n");
  return 1;
};
export const install = todo;
export const uninstall = todo;
export const status = todo;
