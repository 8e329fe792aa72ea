export default async function globalTeardown() {
  await globalThis.__sluiceMoto?.stop();
}
