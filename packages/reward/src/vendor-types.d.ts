// Type declarations for the CommonJS packages this library uses that ship none; only what is used.
// (packages/embed declares StemmerDe of '@nlpjs/lang-de'; ambient module declarations merge.)

declare module 'vader-sentiment' {
  export const SentimentIntensityAnalyzer: {
    polarity_scores(text: string): { neg: number; neu: number; pos: number; compound: number };
  };
}

declare module '@nlpjs/core' {
  export class Container {
    use(plugin: unknown): void;
  }
}

declare module '@nlpjs/lang-de' {
  export class LangDe {}
}

declare module '@nlpjs/sentiment' {
  export class SentimentAnalyzer {
    constructor(settings: { container: unknown });
    process(input: { locale: string; text: string }): Promise<{
      sentiment: { score: number; numWords: number; numHits: number; vote: 'positive' | 'neutral' | 'negative' };
    }>;
  }
}
