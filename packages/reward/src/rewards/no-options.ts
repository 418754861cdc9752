import { z } from 'zod';

/** The options of rewards that take none: any key is a mistake worth reporting. */
export const NoOptions = z.strictObject({});
