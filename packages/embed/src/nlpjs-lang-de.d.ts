// @nlpjs/lang-de ships no type declarations; only the Snowball German stemmer is used.
declare module '@nlpjs/lang-de' {
  export class StemmerDe {
    stemWord(word: string): string;
  }
}
