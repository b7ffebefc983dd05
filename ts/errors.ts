/** Every error latentkit throws on bad input; the message names the problem and the shapes. */
export class LatentkitError extends Error {
  constructor(message: string) {
    super(`latentkit: ${message}`);
    this.name = 'LatentkitError';
  }
}
