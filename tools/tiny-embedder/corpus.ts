/**
 * The built-in text the tiny embedder's WordPiece vocabulary is built from: short lines about wine
 * reviews, retrieval and training (the project's own domains) in English and German, so test
 * sentences mostly map to whole-word tokens and the rest falls back to single characters.
 */
export const EMBEDDER_CORPUS = [
  'The wine shows ripe cherry, blackberry and plum with firm tannins and a long finish.',
  'Bright acidity with citrus, lemon peel and green apple makes this white wine crisp and fresh.',
  'Aromas of vanilla, oak, tobacco and pepper lead to a dense, round and balanced palate.',
  'A sweet dessert wine with honey, apricot and orange marmalade; drink now or cellar for years.',
  'Good value for money: an easy red for a summer barbecue with friends.',
  'Riesling from the Mosel, Pinot Noir from Burgundy, Malbec from Mendoza and Rioja Tempranillo.',
  'Chardonnay, Merlot, Syrah, Cabernet Sauvignon, Sauvignon Blanc, rosé and sparkling wines.',
  'Points, price, country, province, region, variety, winery, vintage, taster and review.',
  'What is the question? Which document answers it? Retrieve the most relevant passages.',
  'The query embedding is compared with every passage embedding by cosine similarity.',
  'A sentence embedding model maps text to a vector; similar texts get similar vectors.',
  'The policy samples a group of completions, the reward model scores them and the trainer updates the policy.',
  'Group relative advantages, clipped ratios, the KL penalty and the learning rate schedule.',
  'Points of view re-rank the retrieved context before the answer is generated.',
  'Der Wein ist trocken, fruchtig und frisch mit Noten von Apfel, Zitrone und Honig.',
  'Die Reise nach Berlin, München und Hamburg: Hotels, Museen, Strände und Berge für Touristen.',
  'Was ist die Antwort auf die Frage? Welche Stadt hat den schönsten Weinberg?',
  'Numbers 0 1 2 3 4 5 6 7 8 9 10 12 15 20 25 30 50 80 85 88 90 92 95 100 2020 2021.',
];
