import { z } from 'zod';

// rank: the POV score re-ranking (seed 002).

export const RankSection = z.strictObject({
  /** Which vectors the chunk x POV cosine uses; defaults to dense when embedded, else sparse. */
  vectors: z.enum(['dense', 'sparse']).optional(),
  /** How many re-ranked chunks become the context. */
  top_n: z.number().int().positive().default(5),
  /**
   * The context order blends relevance and POV score: (1 - pov_weight) x relevance + pov_weight x POV score,
   * each min-max normalised over the question's retrieved chunks. 0: retrieval order; 1: seed 002's pure POV order.
   */
  pov_weight: z.number().min(0).max(1).default(1),
  heatmap: z.strictObject({
    svg: z.boolean().default(true),
    png: z.boolean().default(true),
    max_questions: z.number().int().min(0).default(20),
    /** Font files (.ttf/.otf/.ttc) tried before the system ones, e.g. a CJK font for Japanese POVs. */
    fonts: z.array(z.string()).default([]),
    /** Characters of chunk text and POV text shown in the heatmap's row and column labels. */
    label_chars: z.number().int().min(8).default(40),
  }).default({ svg: true, png: true, max_questions: 20, fonts: [], label_chars: 40 }),
});
